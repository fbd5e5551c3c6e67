/* placeholder: being written */
typedef int spfkit__placeholder_record;
